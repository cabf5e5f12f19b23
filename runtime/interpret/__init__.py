"""Interpretation of the Plan on one dataset: the element walk, the action handlers, conditions, dates, keyed values and what `collect` gathers."""
