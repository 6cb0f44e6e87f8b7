"""Grade review: every member's grade against its up and down rules."""


def run(context):
    """Evaluate all members; return counts."""
    return context.services.members.grades.evaluate_all(progress=context.progress)
