"""The learning loop, wired: agents teach the bot from handoff threads (the offers under
each card and the picks), stored as lessons for trainers to review; and the bot drafts
replies for agents (under each customer message in a thread, sent with one click). Part of
the composition root (:mod:`bot.app`), kept apart so the core's wiring reads on its own."""

from __future__ import annotations

import logging

from bot.adapters.slack import SlackAdapter
from bot.settings import Settings, policy_config
from handoff.agent_texts import AgentTexts
from handoff.approvals import ApprovalGate, SensitiveTexts
from handoff.conversations import Conversations
from handoff.drafts import DraftingDesk, DraftSender
from handoff.ports import AgentDesk, AgentEventHandler
from handoff.privacy import Masker
from handoff.responses import Responses
from handoff.storage import Database
from handoff.storage.lesson_queries import LessonQueries
from handoff.teaching import Teacher, TeachingDesk
from nlu.learned import DOMAIN_FILE, DomainError, domain_names
from nlu.models import ModelStore
from nlu.parsing import NluParser

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
        nlu: NluParser,
        responses: Responses,
        replies: AgentEventHandler,
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
        # The agents' desk with teaching offers under each new card, and drafts under each
        # customer message relayed (parsed by ``nlu``: the masked one, they go to Slack).
        sensitive = policy_config(settings.config.policy).human_only_intents
        self.desk: AgentDesk = DraftingDesk(
            inner=TeachingDesk(inner=desk, teacher=self.teacher),
            nlu=nlu,
            responses=responses,
            offers=slack,
            texts=texts,
            sensitive=sensitive,
            approvals=bool(settings.config.agents.approvers),
        )
        # Drafts on human-only topics are sent by approvers only, whatever was pressed.
        gate = ApprovalGate(
            store=conversations.repository,
            approvers=slack.approvers,
            sensitive=SensitiveTexts(t for i in sensitive for t in responses.templates(i)),
            desk=desk,
            texts=texts,
        )
        self.drafts = DraftSender(
            replies=replies, responses=responses, desk=desk, texts=texts, gate=gate
        )


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
