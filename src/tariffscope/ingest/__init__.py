"""tariffscope.ingest"""
