"""Collection procedures: the worksheet, primary and secondary procedures, the timeline."""
