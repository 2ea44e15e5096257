"""Django settings of the tests' OpenID Connect provider (django-oauth-toolkit), configured from the environment
that serve.py sets: the data folder (SQLite database, RSA key) and the address it serves on."""
from pathlib import Path
import os

DATA = Path(os.environ["OIDC_DATA_DIR"])
ISSUER = os.environ["OIDC_ISSUER"]  # http://127.0.0.1:PORT/o

SECRET_KEY = (DATA / "django-secret").read_text()
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "urls"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
                  "oauth2_provider"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware", "django.middleware.csrf.CsrfViewMiddleware",
              "django.contrib.auth.middleware.AuthenticationMiddleware"]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates",
              "DIRS": [Path(__file__).parent / "templates"], "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request"]}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA / "provider.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
LOGIN_URL = "/accounts/login/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": ISSUER,
    "OIDC_RSA_PRIVATE_KEY": (DATA / "oidc.key").read_text(),
    "SCOPES": {"openid": "OpenID Connect", "profile": "Name and groups", "email": "E-mail address"},
    "OAUTH2_VALIDATOR_CLASS": "validators.GroupsValidator",
    "PKCE_REQUIRED": False,  # Streamlit sends an S256 challenge anyway; the provider checks it when sent
    "REQUEST_APPROVAL_PROMPT": "auto",
}
