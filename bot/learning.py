"""The learning loop, wired: agents teach the bot from handoff threads (the offers under
each card and the picks), stored as lessons for trainers to review. Part of the composition
root (:mod:`bot.app`), kept apart so the core's wiring reads on its own."""

from __future__ import annotations

import logging

from bot.adapters.slack import SlackAdapter
from bot.settings import Settings
from handoff.agent_texts import AgentTexts
from handoff.conversations import Conversations
from handoff.ports import AgentDesk
from handoff.privacy import Masker
from handoff.storage import Database
from handoff.storage.lesson_queries import LessonQueries
from handoff.teaching import Teacher, TeachingDesk
from nlu.learned import DOMAIN_FILE, DomainError, domain_names
from nlu.models import ModelStore

logger = logging.getLogger(__name__)


class LearningWiring:
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        conversations: Conversations,
        slack: SlackAdapter,
        desk: AgentDesk,
        masker: Masker,
        texts: AgentTexts,
    ) -> None:
        models = ModelStore(settings.models_dir)
        managed = settings.env.rasa_url is None
        self.teacher = Teacher(
            store=conversations.repository,
            lessons=LessonQueries(database=database),
            desk=desk,
            offers=slack,
            masker=masker,
            texts=texts,
            intents=model_intents(settings),
            # The model serving now is the one that failed; an external Rasa's is unknown.
            model=lambda: _model_name(models) if managed else None,
            transcript_lines=settings.config.conversation.transcript_lines,
        )
        # The agents' desk with teaching offers under each new card.
        self.desk: AgentDesk = TeachingDesk(inner=desk, teacher=self.teacher)


def model_intents(settings: Settings) -> list[str]:
    """The intents agents pick from: the trainers' domain's."""
    try:
        intents, _entities = domain_names(settings.nlu_dir / DOMAIN_FILE)
    except DomainError as exc:
        logger.warning("teaching offers list no intents: %s", exc)
        return []
    return intents


def _model_name(models: ModelStore) -> str | None:
    current = models.current()
    return current.name if current is not None else None
