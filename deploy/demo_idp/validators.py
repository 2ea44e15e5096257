"""Claims of the provider's ID token: name, e-mail and the user's Django groups (the ``groups`` claim povmap
reads its roles from)."""
from oauth2_provider.oauth2_validators import OAuth2Validator


class GroupsValidator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "profile"}

    def get_additional_claims(self, request):
        user = request.user
        return {"name": user.get_full_name() or user.username, "preferred_username": user.username,
                "email": user.email, "groups": sorted(g.name for g in user.groups.all())}
