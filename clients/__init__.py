"""Code for the hub's counterparts to run on their side (source websites); see clients/README.md."""
