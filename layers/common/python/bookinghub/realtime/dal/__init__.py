"""Real-time booking events over WebSocket (issue 14)."""
