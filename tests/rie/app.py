"""A tiny handler for the official Python runtime interface client."""


def handler(event, context):
    print("python handler got", event)
    if event == "fail":
        raise ValueError("asked to fail")
    if isinstance(event, dict) and "fail_with" in event:
        raise ValueError("y" * event["fail_with"])
    return {"echo": event, "request_id": context.aws_request_id, "arn": context.invoked_function_arn,
            "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 300000}
