"""The shape of reports.create's reply (``registry.method(reply=...)``); docs/reports.md describes it."""
from __future__ import annotations

from rest_framework import serializers

from reports.models import Report


class ReportFiled(serializers.Serializer):
    reportId = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Report.Status.choices,
                                     help_text="open: a new report, or your earlier one of the same target "
                                               "while it is open")
