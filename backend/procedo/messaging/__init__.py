"""Messages a tenant runs itself: its email channel and its template library (issue 15)."""
