from django.conf import settings


def concord(request):
    """Company name for the shell and documents."""
    return {"COMPANY_NAME": settings.COMPANY_NAME}
