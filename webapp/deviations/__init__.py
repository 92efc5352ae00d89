"""Deviations (avvik, guideline 004): recorded by any member, followed up by the coordinator,
escalated to the system owner when the group cannot close them."""
