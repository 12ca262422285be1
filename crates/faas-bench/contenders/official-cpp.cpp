// The echo function on the official C++ runtime, aws-lambda-cpp (built by
// the Makefile from the copy that awslambdaric 4.2.2 bundles): the event
// back, unchanged, as the other contenders answer it.
#include <aws/lambda-runtime/runtime.h>

using namespace aws::lambda_runtime;

static invocation_response echo(invocation_request const &request) {
    return invocation_response::success(request.payload, "application/json");
}

int main() {
    run_handler(echo);
    return 0;
}
