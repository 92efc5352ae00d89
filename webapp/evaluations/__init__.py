"""Evaluation of the group (process and work, the person's view, a decision) on the
municipality's interval, and the yearly question whether the group is still needed."""
