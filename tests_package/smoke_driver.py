"""Runs inside the unzipped deployment package, under Python 3.12 in isolated mode (-I).

Copied next to nothing from the source tree and started by test_smoke.py with cwd = the unzip
dir: sys.path is [unzip dir] + the standard library + the packaging venv's site-packages (for
moto only; the package's own copies come first). It plays AWS with moto, creates the stack's
resources as the template describes them, imports `app` and runs the work it was given, then
prints one JSON document on stdout. Every module it loaded is reported with its origin, so the
test can prove nothing came from the source tree.

Input: the path of a JSON job file (argv[1]); see test_smoke.py for its fields.
"""
import json
import logging
import os
import sys
import time
import traceback

TASK = os.getcwd()
sys.path.insert(0, TASK)

REGION = "us-east-1"
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_LAMBDA_FUNCTION_NAME": "smoke",
})


class Context:
    """The parts of the Lambda context object handlers read."""

    function_name = "smoke"
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:smoke"
    memory_limit_in_mb = 1024
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/smoke"
    log_stream_name = "smoke"

    def __init__(self, timeout_s=25):
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self):
        return int(max(0.0, self._deadline - time.monotonic()) * 1000)


class ErrorLog(logging.Handler):
    """Collects records at ERROR and above: a handler that answers politely after swallowing an
    exception still fails the smoke test."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))[-1500:]
        self.records.append(f"{record.name}: {text}")


PSEUDO = {"AWS::Partition": "aws", "AWS::AccountId": "123456789012", "AWS::StackName": "smoke"}


def resolve(value, refs):
    """A template value as the stack would see it: Ref, Fn::Sub over refs and pseudo parameters,
    Fn::GetAtt of a resource the smoke run does not create (the agents' pool) as a stand-in ARN."""
    if not isinstance(value, dict):
        return str(value)
    if "Ref" in value:  # a template parameter (no resource here) stands in as its own name
        return refs.get(value["Ref"], f"smoke-{value['Ref']}")
    if "Fn::Sub" in value:
        text = value["Fn::Sub"]
        for name, got in {**PSEUDO, **refs}.items():
            text = text.replace("${" + name + "}", str(got))
        return text
    if "Fn::GetAtt" in value:
        lid = value["Fn::GetAtt"][0]
        return f"arn:aws:smoke:{REGION}:123456789012:{lid}"
    raise ValueError(f"cannot resolve {value}")


def create_resources(boto3, job):
    """Create what the template declares and return {logical id: value of Ref}."""
    refs = {"AWS::Region": REGION, **job.get("parameters", {})}
    if refs.get("SesIdentity"):  # the stack's sender identity is verified out of band before deploying
        ses = boto3.client("ses", region_name=REGION)
        identity = refs["SesIdentity"]
        if "@" in identity:
            ses.verify_email_identity(EmailAddress=identity)
        else:
            ses.verify_domain_identity(Domain=identity)
        if refs.get("SesSenderAddress"):
            ses.verify_email_identity(EmailAddress=refs["SesSenderAddress"])
    ddb = boto3.client("dynamodb", region_name=REGION)
    for lid, spec in job["tables"].items():
        params = {k: v for k, v in spec.items() if k in (
            "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode")}
        ddb.create_table(TableName=f"smoke-{lid}", **params)
        refs[lid] = f"smoke-{lid}"
    sm = boto3.client("secretsmanager", region_name=REGION)
    for lid in job["secrets"]:
        refs[lid] = sm.create_secret(Name=f"smoke-{lid}", SecretString="k" * 64)["ARN"]
    sns = boto3.client("sns", region_name=REGION)
    for lid, props in job["topics"].items():
        name = resolve(props["TopicName"], refs) if props.get("TopicName") else f"smoke-{lid}"
        refs[lid] = sns.create_topic(Name=name)["TopicArn"]
    s3 = boto3.client("s3", region_name=REGION)
    for lid in job["buckets"]:
        s3.create_bucket(Bucket=f"smoke-{lid.lower()}")
        refs[lid] = f"smoke-{lid.lower()}"
    sqs = boto3.client("sqs", region_name=REGION)
    for lid in job["queues"]:
        refs[lid] = sqs.create_queue(QueueName=f"smoke-{lid}")["QueueUrl"]
    return refs


CALL_KEYS = ("TableName", "Bucket", "Key", "QueueUrl", "TopicArn", "SecretId", "Name", "Names", "Path",
             "IndexName")


def record_calls(calls, phase, canned):
    """Record every AWS API call made through botocore (service, operation, the resource fields)
    while phase["name"] is set, so the test can check each against the caller's IAM role.

    ``canned`` maps "service:Operation" to a genuine response to return instead of calling moto:
    moto has no real Comprehend (canned or NotImplementedError), and real Comprehend answers."""
    import copy

    import botocore.client

    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        if phase["name"]:
            params = {k: api_params[k] for k in CALL_KEYS if k in api_params}
            if "RequestItems" in api_params:
                params["RequestItems"] = sorted(api_params["RequestItems"])
            if "TransactItems" in api_params:
                params["TransactItems"] = [
                    [kind, body.get("TableName")] for item in api_params["TransactItems"] for kind, body in item.items()]
            if "PhoneNumber" in api_params:
                params["PhoneNumber"] = "[masked phone]"  # the call log never keeps a number
            if "Names" in params:
                params["Names"] = list(params["Names"])
            calls.append({"phase": phase["name"], "service": self.meta.service_model.endpoint_prefix,
                          "operation": operation_name, "params": params})
        key = f"{self.meta.service_model.endpoint_prefix}:{operation_name}"
        if key in canned:
            response = copy.deepcopy(canned[key])
            response.setdefault("ResponseMetadata", {"HTTPStatusCode": 200, "RetryAttempts": 0})
            return response
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = recording


def seed_customer(boto3, customer_id):
    """Write one demo customer's records through the package's own store and mint that customer
    an identity token with the key in Secrets Manager, as an authenticated channel would."""
    from chalicelib.demo import demo_data
    from chalicelib.identity import TokenSigner
    from chalicelib.storage import get_store
    from chalicelib.core.settings import get_settings

    store = get_store()
    data = demo_data.build()
    mine = lambda rows: [r for r in rows if r.customer_id == customer_id]  # noqa: E731
    for c in mine(data.customers):
        store.customers.put(c)
    for card in mine(data.cards):
        store.cards.put(card)
    store.transactions.put_many(mine(data.transactions))
    for d in mine(data.fraud_decisions):
        store.fraud.put(d)
    for case in mine(data.cases):
        store.cases.create(case)
    signer = TokenSigner.from_settings(
        get_settings(), secrets_client_factory=lambda: boto3.client("secretsmanager", region_name=REGION))
    return signer.mint(customer_id)


def table_counts(boto3, refs, table_ids):
    ddb = boto3.client("dynamodb", region_name=REGION)
    return {lid: ddb.scan(TableName=refs[lid], Select="COUNT")["Count"] for lid in table_ids}


def run(job):
    out = {"errors": []}
    from moto import mock_aws

    with mock_aws():
        import boto3

        refs = create_resources(boto3, job)
        out["refs"] = refs
        calls, phase = [], {"name": None}
        out["calls"] = calls
        record_calls(calls, phase, job.get("canned_responses", {}))
        for key, value in job["env"].items():
            os.environ[key] = resolve(value, refs)
        errors = ErrorLog()
        logging.getLogger().addHandler(errors)

        started = time.monotonic()
        import app as app_module  # noqa: the deployment package's app.py

        out["import_seconds"] = round(time.monotonic() - started, 3)
        handler = getattr(app_module, job["lex_handler"])
        out["lex_responses"] = []
        for event in job["lex_events"]:
            t0 = time.monotonic()
            phase["name"] = job["lex_function"]
            out["lex_responses"].append(handler(event, Context()))
            phase["name"] = None
            out.setdefault("lex_turn_seconds", []).append(round(time.monotonic() - t0, 3))

        if job.get("verified_events"):
            token = seed_customer(boto3, job["verified_customer"])
            out["verified_responses"] = []
            for event in job["verified_events"]:
                event.setdefault("requestAttributes", {})["x-da-identity"] = token
                phase["name"] = job["lex_function"]
                out["verified_responses"].append(handler(event, Context()))
                phase["name"] = None

        if job.get("sqs"):
            sqs_job = job["sqs"]
            bucket = refs[sqs_job["bucket"]]
            s3 = boto3.client("s3", region_name=REGION)
            s3.put_object(Bucket=bucket, Key=sqs_job["key"], Body=sqs_job["raw_mail"].encode("utf-8"))
            before = table_counts(boto3, refs, sqs_job["watch_tables"])
            body = json.dumps({"Records": [{
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
                "eventTime": "2026-11-22T10:00:00.000Z", "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0", "configurationId": "raw-mail",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": sqs_job["key"], "size": len(sqs_job["raw_mail"]), "sequencer": "0A1B2C"},
                },
            }]})
            queue_arn = f"arn:aws:sqs:{REGION}:123456789012:smoke-{sqs_job['queue']}"
            event = {"Records": [{
                "messageId": "19dd0b57-b21e-4ac1-bd88-01bbb068cb78", "receiptHandle": "MessageReceiptHandle",
                "body": body, "attributes": {
                    "ApproximateReceiveCount": "1", "SentTimestamp": "1795000000000",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1795000000001"},
                "messageAttributes": {}, "md5OfBody": "0" * 32, "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn, "awsRegion": REGION,
            }]}
            phase["name"] = sqs_job["function"]
            out["sqs_response"] = getattr(app_module, sqs_job["handler"])(event, Context())
            phase["name"] = None
            out["sqs_table_counts"] = {"before": before, "after": table_counts(boto3, refs, sqs_job["watch_tables"])}

        if job.get("classifier_texts"):
            from nlp.classifier import IntentClassifier

            clf = IntentClassifier.load()
            out["classifier"] = {
                "labels": len(clf.labels),
                "predictions": [p.model_dump() for p in clf.predict_batch(job["classifier_texts"])],
            }
        out["errors"] = errors.records

    from nlp.entities import extract_entities
    from nlp.redact import get_pipeline, redact

    message = "Charged $42.99 twice by Amazon, card 4111 1111 1111 1111. Regards,\nDana Fox"
    redacted = redact(message).text
    out["pipeline"] = {
        "tokens": [t.text for t in get_pipeline().tokenizer(message)],
        "redacted": redacted,
        "merchants": [m.name for m in extract_entities(redacted).merchants],
        "spacy_loaded": "spacy" in sys.modules,
    }
    out["modules"] = {
        name: getattr(mod, "__file__", None)
        for name, mod in sorted(sys.modules.items()) if getattr(mod, "__file__", None)
    }
    out["sys_path"] = sys.path
    return out


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        job = json.load(fh)
    print(json.dumps(run(job), default=str))
