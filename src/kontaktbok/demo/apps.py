from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "kontaktbok.demo"
    label = "demo"
    verbose_name = "Demo"
