"""Response objects: each declared once (its fields, for listApis) beside its serializer."""
