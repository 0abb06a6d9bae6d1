"""tariffscope.scenarios"""
