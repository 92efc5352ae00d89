"""The coordinating unit's register of all groups (no confidential content) and the yearly
figures the guidelines ask for."""
