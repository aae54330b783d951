from tests.conftest import wai


def test_smoke(server):
    run = wai("ask", "--plain", "say hi", input="context")
    print(run)
    assert run.exit_code == 0
    assert run.stdout == "Hello, world!"
    assert server.last_body["messages"] == [{"role": "user", "content": "context\n\nsay hi"}]
