from rest_framework import serializers

from governance.core.models import AuditEvent, Signature


class SignatureSerializer(serializers.ModelSerializer):
    signer = serializers.SlugRelatedField(slug_field="username", read_only=True)
    policy_version = serializers.IntegerField(source="policy.version", read_only=True)
    manifestation = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Signature
        fields = [
            "id",
            "signer",
            "full_name_snapshot",
            "signed_at",
            "meaning",
            "comment",
            "content_hash",
            "policy_version",
            "manifestation",
        ]
        read_only_fields = fields


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_username", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "timestamp",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "reason",
            "request_id",
            "ip_address",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class ChainReportSerializer(serializers.Serializer):
    intact = serializers.BooleanField()
    checked = serializers.IntegerField()
    first_broken_id = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_blank=True)
