"""The process owners' workbench: diagrams and forms edited, checked and compared in the browser."""
