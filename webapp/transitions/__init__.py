"""Transitions in the person's life (school stages, adulthood, own home, work, moving) and the
review of the group's composition that each one starts ahead of time."""
