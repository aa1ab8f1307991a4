"""The API's routes, one router per resource: cases, qualification records, the municipality
feed, figures, operations."""
