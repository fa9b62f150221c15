"""Domain and infrastructure of the dispute assistant.

Imports none of chatbot/, intents/ or nlp/: everything else depends on this package, never the
other way round, so Chalice can deploy it as the stable core.
"""
