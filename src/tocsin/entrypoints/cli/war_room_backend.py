"""Where war-room and stakeholder-update commands go: the database directly, or a server's API."""

from __future__ import annotations

from typing import Protocol

from tocsin.entrypoints.api import communications as communications_api
from tocsin.entrypoints.api import incidents as incidents_api
from tocsin.entrypoints.api import schemas
from tocsin.entrypoints.api import war_room as war_room_api
from tocsin.entrypoints.cli.backend import HttpBackend, LocalBackend, _Response
from tocsin.entrypoints.cli.context import CliState


class WarRoomBackend(Protocol):
    def visibility(self, ref: str, private: bool) -> schemas.IncidentRead: ...
    def messages(self, ref: str) -> list[war_room_api.MessageRead]: ...
    def post_message(self, ref: str, text: str) -> list[war_room_api.MessageRead]: ...
    def participants(self, ref: str) -> list[war_room_api.ParticipantRead]: ...
    def invite(self, ref: str, person: str) -> list[war_room_api.ParticipantRead]: ...
    def preview_update(
        self, ref: str, body: communications_api.UpdateCompose
    ) -> communications_api.UpdatePreview: ...
    def send_update(
        self, ref: str, body: communications_api.UpdateCreate
    ) -> communications_api.UpdateRead: ...
    def updates(self, ref: str) -> communications_api.UpdatesRead: ...


class LocalWarRoomBackend(LocalBackend):
    """The API's route functions in-process, as the other local commands use them."""

    def visibility(self, ref: str, private: bool) -> schemas.IncidentRead:
        body = schemas.VisibilitySet(private=private)
        return incidents_api.set_visibility(ref, body, **self._ctx())

    def messages(self, ref: str) -> list[war_room_api.MessageRead]:
        return war_room_api.list_messages(ref, 0, **self._ctx())

    def post_message(self, ref: str, text: str) -> list[war_room_api.MessageRead]:
        body = war_room_api.MessageCreate(body=text)
        return war_room_api.post_message(ref, body, **self._ctx())

    def participants(self, ref: str) -> list[war_room_api.ParticipantRead]:
        return war_room_api.list_participants(ref, **self._ctx())

    def invite(self, ref: str, person: str) -> list[war_room_api.ParticipantRead]:
        body = war_room_api.ParticipantCreate(person=person)
        return war_room_api.invite(ref, body, **self._ctx())

    def preview_update(
        self, ref: str, body: communications_api.UpdateCompose
    ) -> communications_api.UpdatePreview:
        return communications_api.preview_update(ref, body, self.principal, self.tocsin)

    def send_update(
        self, ref: str, body: communications_api.UpdateCreate
    ) -> communications_api.UpdateRead:
        return communications_api.send_update(ref, body, _Response(), **self._ctx())  # type: ignore[arg-type]

    def updates(self, ref: str) -> communications_api.UpdatesRead:
        return communications_api.list_updates(ref, self.principal, self.tocsin)


class HttpWarRoomBackend(HttpBackend):
    """A server's REST API."""

    def visibility(self, ref: str, private: bool) -> schemas.IncidentRead:
        return self._call(
            "PUT", f"/incidents/{ref}/visibility", schemas.IncidentRead, json={"private": private}
        )

    def messages(self, ref: str) -> list[war_room_api.MessageRead]:
        return self._call("GET", f"/incidents/{ref}/messages", list[war_room_api.MessageRead])

    def post_message(self, ref: str, text: str) -> list[war_room_api.MessageRead]:
        return self._call(
            "POST",
            f"/incidents/{ref}/messages",
            list[war_room_api.MessageRead],
            json={"body": text},
        )

    def participants(self, ref: str) -> list[war_room_api.ParticipantRead]:
        path = f"/incidents/{ref}/participants"
        return self._call("GET", path, list[war_room_api.ParticipantRead])

    def invite(self, ref: str, person: str) -> list[war_room_api.ParticipantRead]:
        path = f"/incidents/{ref}/participants"
        return self._call("POST", path, list[war_room_api.ParticipantRead], json={"person": person})

    def preview_update(
        self, ref: str, body: communications_api.UpdateCompose
    ) -> communications_api.UpdatePreview:
        return self._call(
            "POST",
            f"/incidents/{ref}/updates/preview",
            communications_api.UpdatePreview,
            json=self._json(body),
        )

    def send_update(
        self, ref: str, body: communications_api.UpdateCreate
    ) -> communications_api.UpdateRead:
        return self._call(
            "POST",
            f"/incidents/{ref}/updates",
            communications_api.UpdateRead,
            json=self._json(body),
        )

    def updates(self, ref: str) -> communications_api.UpdatesRead:
        return self._call("GET", f"/incidents/{ref}/updates", communications_api.UpdatesRead)


def war_room_backend(cli: CliState) -> WarRoomBackend:
    """A server's API when --url is given, else the database directly."""
    if cli.url:
        return HttpWarRoomBackend(cli.url, cli.token or cli.settings().token)
    return LocalWarRoomBackend(cli.tocsin(), cli.actor)
