"""tariffscope.report"""
