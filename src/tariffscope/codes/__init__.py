"""tariffscope.codes"""
