"""Municipality profiles: the five guidelines shipped as settings plus, where a guideline's flow
differs, diagram variants (``profiles/<name>/`` at the top of the repository)."""
