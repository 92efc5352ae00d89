"""The individual plan (individuell plan) and the relay log (stafettlogg): goals, measures,
versions, and the plan living in the group's meetings."""
