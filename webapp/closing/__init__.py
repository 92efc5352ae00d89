"""Closing a group (on the person's wish, an evaluation's decision or a consent withdrawal) and
re-establishing a closed one."""
