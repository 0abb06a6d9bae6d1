"""tariffscope.web"""
