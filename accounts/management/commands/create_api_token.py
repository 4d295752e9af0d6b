from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiToken, User
from accounts.services import create_api_token


class Command(BaseCommand):
    help = "Create an API token for a user and print its key (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.READ)

    def handle(self, *args, username, name, scope, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        try:
            token, key = create_api_token(user=user, name=name, scope=scope)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(
            f"Created {scope} token {token.name!r} for {user.username}. Store the key now; it is not shown again:"
        )
        self.stdout.write(key)
