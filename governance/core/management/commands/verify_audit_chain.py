"""Recompute every audit event's hash; exit 1 and name the first broken event if the chain is not intact."""

import sys

from django.core.management.base import BaseCommand

from governance.core.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain."

    def handle(self, *args, **options):
        report = verify_chain()
        if report.intact:
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events verified."))
            return
        where = f"at event {report.first_broken_id}" if report.first_broken_id else "at its end"
        self.stdout.write(
            self.style.ERROR(
                f"Audit chain BROKEN {where}: {report.problem} ({report.checked} events verified before it)."
            )
        )
        sys.exit(1)
