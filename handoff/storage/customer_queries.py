"""The repository's customers."""

from __future__ import annotations

from sqlalchemy import or_, select

from handoff.records import Customer
from handoff.storage import dml, mapping
from handoff.storage.repository_base import RepositoryBase
from handoff.storage.sanitize import clean_optional, clean_text
from handoff.storage.tables import CustomerRow


class CustomerQueries(RepositoryBase):
    """Customers, one per person and channel."""

    async def get_or_create_customer(
        self,
        *,
        channel: str,
        platform_user_id: str,
        display_name: str,
        username: str | None = None,
        language_code: str | None = None,
    ) -> Customer:
        """The customer with this platform id, created if new.

        The profile (name, username, language) is refreshed when it changed, since people
        rename themselves; ``created_at`` is kept.
        """
        now = self._now()
        async with self._transaction("saving a customer") as session:
            insert = dml.insert(self._database.backend, CustomerRow).values(
                channel=channel,
                platform_user_id=platform_user_id,
                display_name=clean_text(display_name),
                username=clean_optional(username),
                language_code=clean_optional(language_code),
                created_at=now,
            )
            new = insert.excluded
            statement = insert.on_conflict_do_update(
                index_elements=[CustomerRow.channel, CustomerRow.platform_user_id],
                set_={
                    CustomerRow.display_name: new.display_name,
                    CustomerRow.username: new.username,
                    CustomerRow.language_code: new.language_code,
                },
                # Skipping unchanged profiles spares a write (and a row lock) per message.
                where=or_(
                    CustomerRow.display_name.is_distinct_from(new.display_name),
                    CustomerRow.username.is_distinct_from(new.username),
                    CustomerRow.language_code.is_distinct_from(new.language_code),
                ),
            ).returning(CustomerRow)
            row = (await session.scalars(statement)).one_or_none()
            if row is None:  # it existed and nothing changed, so nothing was returned
                row = (
                    await session.scalars(
                        select(CustomerRow).where(
                            CustomerRow.channel == channel,
                            CustomerRow.platform_user_id == platform_user_id,
                        )
                    )
                ).one()
            return mapping.customer(row)

    async def get_customer(self, customer_id: int) -> Customer | None:
        async with self._transaction("reading a customer") as session:
            row = await session.get(CustomerRow, customer_id)
            return None if row is None else mapping.customer(row)
