"""tariffscope.trade"""
