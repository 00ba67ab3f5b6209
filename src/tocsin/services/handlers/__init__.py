"""The handler tables the bus is built from."""

from __future__ import annotations

from tocsin.domain import commands, events
from tocsin.services.handlers import (
    accounts,
    actions,
    alerts,
    catalog,
    incidents,
    integrations,
    runbooks,
    silences,
)
from tocsin.services.messagebus import CommandHandler, EventHandler
from tocsin.services.paging import deliveries, escalations

COMMAND_HANDLERS: dict[type[commands.Command], CommandHandler] = {
    commands.DeclareIncident: incidents.declare_incident,
    commands.ChangeStatus: incidents.change_status,
    commands.ReclassifyIncident: incidents.reclassify_incident,
    commands.AssignRole: incidents.assign_role,
    commands.RelieveRole: incidents.relieve_role,
    commands.SetTimestamp: incidents.set_timestamp,
    commands.UpdateIncident: incidents.update_incident,
    commands.AddTimelineEntry: incidents.add_timeline_entry,
    commands.MarkKeyMoment: incidents.mark_key_moment,
    commands.SavePerson: catalog.save_person,
    commands.SaveTeam: catalog.save_team,
    commands.SaveService: catalog.save_service,
    commands.ImportCatalog: catalog.import_catalog,
    commands.CreateUser: accounts.create_user,
    commands.CreateApiToken: accounts.create_api_token,
    commands.RevokeApiToken: accounts.revoke_api_token,
    commands.LogIn: accounts.log_in,
    commands.LogOut: accounts.log_out,
    commands.CreateIntegration: integrations.create_integration,
    commands.RotateIntegrationKey: integrations.rotate_integration_key,
    commands.ReceiveAlerts: alerts.receive_alerts,
    commands.RecordChange: integrations.record_change,
    commands.ProcessInbox: alerts.process_inbox,
    commands.RetryInboxItem: alerts.retry_inbox_item,
    commands.PingHeartbeat: integrations.ping_heartbeat,
    commands.CheckHeartbeats: integrations.check_heartbeats,
    commands.CreateSilence: silences.create_silence,
    commands.ExpireSilence: silences.expire_silence,
    commands.AcknowledgeIncident: escalations.acknowledge_incident,
    commands.RunEscalations: escalations.run_escalations,
    commands.AcknowledgeByLink: deliveries.acknowledge_by_link,
    commands.ClaimDeliveries: deliveries.claim_deliveries,
    commands.RecordDelivery: deliveries.record_delivery,
    # runbooks, actions and recovery checks
    commands.ImportRunbooks: runbooks.import_runbooks,
    commands.SaveAction: runbooks.save_action,
    commands.AttachRunbook: runbooks.attach_runbook,
    commands.TickRunbookStep: runbooks.tick_runbook_step,
    commands.RequestActionRun: actions.request_action_run,
    commands.ApproveActionRun: actions.approve_action_run,
    commands.StartActionRun: actions.start_action_run,
    commands.RecordActionRun: actions.record_action_run,
    commands.StartCheck: actions.start_check,
    commands.RecordCheckAttempt: actions.record_check_attempt,
}

EVENT_HANDLERS: dict[type[events.Event], list[EventHandler]] = {
    events.Event: [incidents.announce_change],
    events.IncidentDeclared: [escalations.start_escalation],
    events.IncidentSeverityChanged: [escalations.follow_severity],
    events.IncidentStatusChanged: [escalations.stop_on_status],
    events.IncidentTimestampSet: [escalations.stop_on_acknowledgement],
}
