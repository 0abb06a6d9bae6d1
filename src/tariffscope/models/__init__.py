"""tariffscope.models"""
