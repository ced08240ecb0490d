"""Code for the hub's counterparts to run on their side: source websites (onebooking_client) and real-time
subscribers (realtime_client); see clients/README.md."""
