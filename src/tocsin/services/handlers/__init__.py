"""The handler tables the bus is built from."""

from __future__ import annotations

from tocsin.domain import commands, events
from tocsin.services.handlers import (
    accounts,
    actions,
    alerts,
    catalog,
    communications,
    inbox,
    incidents,
    integrations,
    runbooks,
    silences,
    war_room,
    workflows,
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
    commands.SetIncidentPrivacy: incidents.set_incident_privacy,
    commands.InviteParticipant: incidents.invite_participant,
    commands.PostMessage: incidents.post_message,
    commands.SavePerson: catalog.save_person,
    commands.SaveTeam: catalog.save_team,
    commands.SaveService: catalog.save_service,
    commands.ImportCatalog: catalog.import_catalog,
    commands.CreateUser: accounts.create_user,
    commands.LinkUser: accounts.link_user,
    commands.CreateApiToken: accounts.create_api_token,
    commands.RevokeApiToken: accounts.revoke_api_token,
    commands.LogIn: accounts.log_in,
    commands.LogOut: accounts.log_out,
    commands.CreateIntegration: integrations.create_integration,
    commands.RotateIntegrationKey: integrations.rotate_integration_key,
    commands.ReceiveAlerts: alerts.receive_alerts,
    commands.RecordChange: integrations.record_change,
    commands.ProcessInbox: inbox.process_inbox,
    commands.RetryInboxItem: inbox.retry_inbox_item,
    commands.PingHeartbeat: integrations.ping_heartbeat,
    commands.CheckHeartbeats: integrations.check_heartbeats,
    commands.CreateSilence: silences.create_silence,
    commands.ExpireSilence: silences.expire_silence,
    commands.ReleaseSilencedAlerts: silences.release_silenced_alerts,
    commands.AcknowledgeIncident: escalations.acknowledge_incident,
    commands.RunEscalations: escalations.run_escalations,
    commands.AcknowledgeByLink: deliveries.acknowledge_by_link,
    commands.ClaimDeliveries: deliveries.claim_deliveries,
    commands.RecordDeliveries: deliveries.record_deliveries,
    # workflow: stages, checklists, tasks
    commands.MoveStage: workflows.move_stage,
    commands.TickChecklistItem: workflows.tick_checklist_item,
    commands.StartTask: workflows.start_task,
    commands.CompleteTask: workflows.complete_task,
    commands.SkipTask: workflows.skip_task,
    commands.AssignTask: workflows.assign_task,
    # ----- communications (issue 5) -----
    commands.ComposeUpdate: communications.compose_update,
    commands.SendUpdate: communications.send_update,
    commands.RunUpdateReminders: communications.run_update_reminders,
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
    events.IncidentDeclared: [
        workflows.start_workflow,  # every incident runs one from declaration
        communications.announce_declaration,
        escalations.start_escalation,  # last: its first step pages about the finished incident
    ],
    events.IncidentSeverityChanged: [
        escalations.follow_severity,
        workflows.add_severity_workstreams,  # a raised severity adds its workstreams
    ],
    events.IncidentStatusChanged: [escalations.follow_status, communications.end_contract],
    events.IncidentTimestampSet: [escalations.stop_on_acknowledgement],
    events.IncidentVisibilityChanged: [war_room.hush_channels],
    events.WarRoomMessagePosted: [war_room.mirror_message],
}
