"""The member system of seeds 002/003: ledgers, points, money, grades, transactions."""
