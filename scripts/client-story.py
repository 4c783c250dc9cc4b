#!/usr/bin/env python3
"""The programme's story, told through the Python client openapi-python-client generates from openapi.yaml.

A laureate finds an expert in the public directory, requests a mission with the entry's `expert_id`, the expert
learns who asks (the laureate's public profile), scopes, proposes, the laureate sees the expert's contact and
accepts, the expert reports, the review closes it, and the team reads it all in the filtered event log, newest first.
Usage: client-story.py BASE_URL DEMO_LOGINS_FILE. Exits non-zero (an assertion) when a step does not hold.
"""
import sys
import uuid

from mdp_api_client import AuthenticatedClient, Client
from mdp_api_client.api.accounts import create_session_token
from mdp_api_client.api.audit import list_events
from mdp_api_client.api.directory import search_directory
from mdp_api_client.api.laureates import get_laureate_team
from mdp_api_client.api.missions import get_mission, request_mission, transition_mission
from mdp_api_client.api.accounts import get_me
from mdp_api_client.models import (Diagnostic, ListEventsOrder, LoginRequest, MissionAction, MissionReportBody,
                                   MissionRequest, MissionTransition, Quote, QuoteLine, Ratings, SatisfactionReviewBody)

base, logins_file = sys.argv[1], sys.argv[2]
logins = {}
for line in open(logins_file, encoding="utf-8"):
    parts = line.split()
    if len(parts) == 3 and parts[0] not in logins:
        logins[parts[0]] = (parts[1], parts[2])
anonymous = Client(base_url=base, raise_on_unexpected_status=True)


def session(role):
    email, password = logins[role]
    reply = create_session_token.sync_detailed(client=anonymous, body=LoginRequest(email=email, password=password),
                                               idempotency_key=str(uuid.uuid4()))
    assert reply.status_code == 201, (role, reply.status_code, reply.content)
    return AuthenticatedClient(base_url=base, token=reply.parsed.token, raise_on_unexpected_status=True)


laureate, expert, team = session("laureate"), session("expert"), session("admin")
me = get_me.sync(client=laureate)
expert_me = get_me.sync(client=expert)
laureate_id = me.laureate_id

# The directory, anonymously: the entry carries the id a request takes.
page = search_directory.sync(client=anonymous, q=expert_me.display_name.split()[-1], limit=100)
entry = next(item for item in page.items if item.expert_id == expert_me.expert_id)
assert page.has_more in (True, False)

# The request.
created = request_mission.sync_detailed(
    client=laureate, body=MissionRequest(title="Modèle économique (client généré)", expert_id=entry.expert_id,
                                         laureate_ids=[laureate_id]), idempotency_key=str(uuid.uuid4()))
assert created.status_code == 201 and created.headers.get("etag"), (created.status_code, created.content)
mission = created.parsed
assert mission.expert.last_name == entry.last_name


def step(client, body):
    current = get_mission.sync_detailed(mission.id, client=team)
    reply = transition_mission.sync_detailed(mission.id, client=client, body=body, if_match=current.headers["etag"],
                                             idempotency_key=str(uuid.uuid4()))
    assert reply.status_code == 200, (body.action, reply.status_code, reply.content)
    return reply.parsed


# The expert learns who asks: the laureate's public profile.
seen = get_mission.sync(mission.id, client=expert)
profile = seen.participants[0].laureate
assert profile.id == laureate_id and profile.name and profile.department and profile.cohort >= 1, profile

step(expert, MissionTransition(action=MissionAction.SCOPE))
scoped = get_mission.sync(mission.id, client=laureate)
assert scoped.expert.email, "from scoping on the laureate sees the expert's e-mail"
team_page = get_laureate_team.sync(laureate_id, client=expert)
assert any(member.expert.expert_id == expert_me.expert_id for member in team_page.items), team_page

import datetime
step(expert, MissionTransition(
    action=MissionAction.PROPOSE,
    diagnostic=Diagnostic(context="Atelier partagé", needs="Modèle économique", objectives="Équilibre",
                          method="Ateliers", deliverables="Plan d'affaires", start_on=datetime.date(2024, 4, 1),
                          end_on=datetime.date(2024, 6, 30), days_hundredths=300),
    quote=Quote(lines=[QuoteLine(label="Accompagnement", quantity_hundredths=100, unit_price_cents=100_000)],
                vat_rate_basis_points=2000, valid_until=datetime.date(2024, 12, 31))))
step(laureate, MissionTransition(action=MissionAction.ACCEPT))
step(expert, MissionTransition(action=MissionAction.REPORT, report=MissionReportBody(
    actions="Trois ateliers", deliverables="Plan d'affaires", days_spent_hundredths=300, results="Modèle validé",
    recommendations="Suivi à six mois")))
closed = step(laureate, MissionTransition(action=MissionAction.REVIEW, review=SatisfactionReviewBody(
    ratings=Ratings(expertise=5, listening=5, deliverables=4, deadlines=4, usefulness=5), would_recommend=True,
    comments="Très utile")))
assert closed.state == "closed", closed.state

# The team reads it all in the filtered event log, newest first.
events = list_events.sync(client=team, subject_id=mission.id, action="mission.", order=ListEventsOrder.DESC, limit=20)
actions = [event.action for event in events.items]
assert actions == ["mission.review", "mission.report", "mission.accept", "mission.propose", "mission.scope",
                   "mission.requested"], actions
assert events.items[-1].actor.display_name and events.items[-1].actor.role == "laureate", events.items[-1].actor
print("client-story: the generated Python client walked the whole story against the live server")
