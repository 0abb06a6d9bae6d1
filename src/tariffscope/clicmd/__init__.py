"""CLI command modules; each registers its commands on the apps in ``tariffscope.cli``."""
