"""Shake (摇一摇): activities set up by staff, members' draws, and the sweep of open draws."""
