"""tariffscope.tariffs"""
