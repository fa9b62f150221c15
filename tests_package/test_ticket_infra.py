"""The human side in the stack (issue 10): the tickets table, one encrypted SNS topic per ticket
queue, the agents' Cognito pool behind the agent routes' authorizer, and customer email through
one SES identity, each reachable only by the functions that use it."""
from __future__ import annotations

import json

from tests_package.test_merge_rules import INFRA, _chalice, _function, _sqs, merge_template

QUEUE_TOPICS = {"fraud": "TicketsFraudTopic", "disputes": "TicketsDisputesTopic", "complaints": "TicketsComplaintsTopic",
                "vulnerable_customers": "TicketsVulnerableCustomersTopic", "general": "TicketsGeneralTopic"}


def _merged() -> dict:
    api = {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionBody": {"securityDefinitions": {"agents": {
        "type": "apiKey", "x-amazon-apigateway-authorizer": {
            "type": "cognito_user_pools", "providerARNs": [merge_template.AGENT_POOL_PLACEHOLDER]}}}}}}
    base = _chalice(LexHook=_function("app.lex_hook"), APIHandler=_function("app.app"),
                    CardEvents=_function("app.card_events"),
                    EmailIngest=_function("app.email_ingest", _sqs("da-email")))
    base["Resources"]["RestAPI"] = api
    template, _ = merge_template.merge(base, INFRA, None)
    return template


def _statements(template: dict, fn_id: str) -> list[dict]:
    return template["Resources"][f"{fn_id}Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


def _table_access(template: dict, fn_id: str) -> set[str]:
    return {json.dumps(r) for st in _statements(template, fn_id) if st["Sid"].startswith("Tables")
            for r in st["Resource"]}


def test_the_tickets_table_has_the_stores_keys_and_is_encrypted_and_retained():
    """Given the ticket store's table_definition / When the template is merged
    Then TicketsTable has the same keys and indexes, KMS encryption, recovery and Retain."""
    from chalicelib.tickets.store_dynamodb import table_definition

    template = _merged()
    res = template["Resources"]["TicketsTable"]
    want = table_definition("x")
    assert res["Properties"]["KeySchema"] == want["KeySchema"]
    assert res["Properties"]["GlobalSecondaryIndexes"] == want["GlobalSecondaryIndexes"]
    assert res["Properties"]["SSESpecification"]["SSEType"] == "KMS"
    assert res["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert res["DeletionPolicy"] == "Retain"
    assert template["Metadata"]["DisputeAssistant"]["ServiceTables"] == {"tickets": "TicketsTable",
                                                                         "transcripts": "TranscriptsTable"}


def test_the_transcripts_table_has_the_stores_keys_expires_and_only_the_chat_functions_reach_it():
    """Given the transcript store's table_definition and TTL attribute / When the template is merged
    Then TranscriptsTable has the same keys, TTL on that attribute, KMS encryption and Retain; the
    Lex hook and the API (local web chat) may write it, the email and card-event consumers may not,
    and the functions are told its name."""
    from chalicelib.transcripts.store_dynamodb import TTL_ATTRIBUTE, table_definition

    template = _merged()
    res = template["Resources"]["TranscriptsTable"]
    assert res["Properties"]["KeySchema"] == table_definition("x")["KeySchema"]
    assert res["Properties"]["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert res["Properties"]["SSESpecification"]["SSEType"] == "KMS" and res["DeletionPolicy"] == "Retain"
    ref = json.dumps({"Fn::GetAtt": ["TranscriptsTable", "Arn"]})
    assert ref in _table_access(template, "LexHook") and ref in _table_access(template, "APIHandler")
    assert ref not in _table_access(template, "EmailIngest") and ref not in _table_access(template, "CardEvents")
    env = template["Resources"]["LexHook"]["Properties"]["Environment"]["Variables"]
    assert env["DA_TRANSCRIPTS_TABLE"] == {"Ref": "TranscriptsTable"}


def test_each_ticket_queue_has_a_kms_topic_named_as_the_publisher_addresses_it():
    """Given SnsTopicPublisher publishes to "<DA_TICKET_TOPIC_ARN_PREFIX>-<queue>" / When merged
    Then every queue has a topic of exactly that name, encrypted with the data key."""
    from chalicelib.tickets.model import Queue

    template = _merged()
    assert set(QUEUE_TOPICS) == {q.value for q in Queue}
    env = template["Resources"]["EmailIngest"]["Properties"]["Environment"]["Variables"]
    prefix = env["DA_TICKET_TOPIC_ARN_PREFIX"]["Fn::Sub"]
    for queue, lid in QUEUE_TOPICS.items():
        props = template["Resources"][lid]["Properties"]
        assert props["KmsMasterKeyId"] == {"Ref": "DataKey"}
        assert prefix.endswith(":${AWS::StackName}-tickets")
        assert props["TopicName"] == {"Fn::Sub": "${AWS::StackName}-tickets-" + queue}


def test_the_agent_routes_authorizer_is_the_stacks_agent_pool_whose_role_and_queues_agents_cannot_write():
    """Given the authorizer Chalice packages with the placeholder pool / When merged
    Then it names AgentUserPool; the pool carries custom:role and custom:queues, which the client
    may read but not write, and the API function knows the pool."""
    template = _merged()
    auth = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["securityDefinitions"]["agents"]
    assert auth["x-amazon-apigateway-authorizer"]["providerARNs"] == [{"Fn::GetAtt": ["AgentUserPool", "Arn"]}]
    assert merge_template.AGENT_POOL_PLACEHOLDER not in json.dumps(template)
    pool = template["Resources"]["AgentUserPool"]["Properties"]
    assert {a["Name"] for a in pool["Schema"]} == {"role", "queues"}
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    client = template["Resources"]["AgentUserPoolClient"]["Properties"]
    assert {"custom:role", "custom:queues"} <= set(client["ReadAttributes"])
    assert not {"custom:role", "custom:queues"} & set(client["WriteAttributes"])
    env = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert env["DA_AGENT_USER_POOL_ARN"] == {"Fn::GetAtt": ["AgentUserPool", "Arn"]}


def test_customer_email_goes_through_the_ses_identity_parameter_from_its_sender_only():
    """Given the SES identity and sender parameters / When merged / Then the email consumer and the
    agent API may send only as that identity and from that address, the chat hook and the card
    stream may not send email at all, and no function writes to the local outbox in Lambda."""
    template = _merged()
    assert {"SesIdentity", "SesSenderAddress"} <= set(template["Parameters"])
    for fn_id in ("EmailIngest", "APIHandler"):
        [ses] = [st for st in _statements(template, fn_id) if st["Sid"] == "SendCustomerEmail"]
        assert ses["Action"] == ["ses:SendEmail"] and "${SesIdentity}" in ses["Resource"]["Fn::Sub"]
        assert ses["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "SesSenderAddress"}}}
    for fn_id in ("LexHook", "CardEvents"):
        assert not any("ses:" in json.dumps(st["Action"]) for st in _statements(template, fn_id))
    for fn_id in ("LexHook", "APIHandler", "CardEvents", "EmailIngest"):
        env = template["Resources"][fn_id]["Properties"]["Environment"]["Variables"]
        assert env["DA_NOTIFIER"] == "sns" and env["DA_EMAIL_SENDER"] == {"Ref": "SesSenderAddress"}


def test_only_the_functions_that_open_or_work_tickets_reach_the_table_and_the_queue_topics():
    """Given the function profiles / When merged / Then the chat hook, the agent API and the email
    consumer may write tickets and publish to every queue topic; the card stream may do neither."""
    template = _merged()
    ticket_table = json.dumps({"Fn::GetAtt": ["TicketsTable", "Arn"]})
    for fn_id in ("LexHook", "APIHandler", "EmailIngest"):
        assert ticket_table in _table_access(template, fn_id), fn_id
        [publish] = [st for st in _statements(template, fn_id) if st["Sid"] == "PublishTopics"]
        assert {r["Ref"] for r in publish["Resource"]} >= set(QUEUE_TOPICS.values())
    assert ticket_table not in _table_access(template, "CardEvents")
    assert not any(st["Sid"] == "PublishTopics" for st in _statements(template, "CardEvents"))


def _merged_with_worker() -> dict:
    base = _chalice(LexHook=_function("app.lex_hook"), APIHandler=_function("app.app"),
                    CardEvents=_function("app.card_events"),
                    EmailIngest=_function("app.email_ingest", _sqs("da-email")),
                    EscalationWorker=_function("app.escalation_worker", _sqs("da-escalations")))
    template, unprofiled = merge_template.merge(base, INFRA, None)
    assert unprofiled == []
    return template


def test_the_escalation_worker_consumes_an_encrypted_queue_whose_failures_park_in_an_alarmed_dlq():
    """Given app.py's escalation_worker on "da-escalations" (the settings' default) / When merged
    Then it reads the stack's EscalationQueue with partial batch responses under its own concurrency
    cap; the queue is KMS-encrypted and redrives after the same receive count the local queue uses
    to an encrypted dead-letter queue whose depth alarms the operators."""
    from chalicelib.core.settings import Settings

    template = _merged_with_worker()
    res = template["Resources"]
    event = res["EscalationWorker"]["Properties"]["Events"]["Src"]["Properties"]
    assert Settings().escalation_queue_name == "da-escalations"
    assert event["Queue"] == {"Fn::GetAtt": ["EscalationQueue", "Arn"]}
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "EscalationWorkerMaxConcurrency"}}
    assert "EscalationWorkerMaxConcurrency" in template["Parameters"]
    queue = res["EscalationQueue"]["Properties"]
    assert queue["KmsMasterKeyId"] == {"Ref": "DataKey"} and res["EscalationDeadLetterQueue"]["Properties"]["KmsMasterKeyId"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["EscalationDeadLetterQueue", "Arn"]},
                                      "maxReceiveCount": Settings().escalation_max_receives}
    assert queue["VisibilityTimeout"] >= 6 * res["EscalationWorker"]["Properties"]["Timeout"]
    alarm = res["EscalationDeadLetterQueueAlarm"]["Properties"]
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["EscalationDeadLetterQueue", "QueueName"]}}]
    assert (alarm["MetricName"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "ApproximateNumberOfMessagesVisible", 1, "GreaterThanOrEqualToThreshold")
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    env = res["EscalationWorker"]["Properties"]["Environment"]["Variables"]
    assert env["DA_ESCALATION_PARTIAL_BATCH_RESPONSE"] == "true"


def test_only_the_escalating_functions_may_send_to_the_queue_and_the_worker_only_works_tickets():
    """Given the profiles / When merged / Then the chat hook and the email consumer may send to the
    escalation queue and know its URL, the agent API and the card stream neither; the worker may
    consume it, read what the context bundle needs, write tickets, publish to the team topics, and
    neither send email nor append decisions."""
    template = _merged_with_worker()
    for fn_id in ("LexHook", "EmailIngest"):
        [send] = [st for st in _statements(template, fn_id) if st["Sid"] == "SendToEscalationQueue"]
        assert send["Action"] == "sqs:SendMessage" and send["Resource"] == {"Fn::GetAtt": ["EscalationQueue", "Arn"]}
        env = template["Resources"][fn_id]["Properties"]["Environment"]["Variables"]
        assert env["DA_ESCALATION_QUEUE_URL"] == {"Ref": "EscalationQueue"}
    for fn_id in ("APIHandler", "CardEvents", "EscalationWorker"):
        assert not any(st["Sid"] == "SendToEscalationQueue" for st in _statements(template, fn_id)), fn_id
        assert "DA_ESCALATION_QUEUE_URL" not in template["Resources"][fn_id]["Properties"]["Environment"]["Variables"]
    worker = _statements(template, "EscalationWorker")
    assert any(st["Sid"] == "ConsumeEscalationQueue" for st in worker)
    assert json.dumps({"Fn::GetAtt": ["TicketsTable", "Arn"]}) in _table_access(template, "EscalationWorker")
    [publish] = [st for st in worker if st["Sid"] == "PublishTopics"]
    assert {r["Ref"] for r in publish["Resource"]} == set(QUEUE_TOPICS.values())
    assert not any("ses:" in json.dumps(st["Action"]) for st in worker)
    assert not any(st["Sid"] == "TablesAppend" for st in worker)
