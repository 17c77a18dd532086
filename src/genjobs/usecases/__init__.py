"""The use cases (submit a task, cancel one), free of HTTP: they take what they need from
their caller, refuse with the domain's errors (core/errors.py), and leave nothing written
when they refuse. The API maps the refusals to kie codes; workers never import them."""
