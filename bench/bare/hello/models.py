from __future__ import annotations

from django.db import models


class Hit(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"hit {self.pk}"
