"""Usage: python3 benches/callgrind_page.py SERVER_BIN PORT N [page|me]

Callgrind profile of one query of the load generator's `queries` scenario
(issue #9), the 50-message page by default: a server under valgrind, two
users and 60 messages made through the API, then N requests of the query.
Two runs with different N, subtracted, give the cost of one request.
Prints the output file; read it with callgrind_annotate."""
import json, signal, sys, urllib.request

import callgrind_server

BIN, PORT, N = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
WHICH = sys.argv[4] if len(sys.argv) > 4 else "page"
out = f"callgrind.{WHICH}.{N}.out"
server, base = callgrind_server.start(BIN, PORT, out)

def gql(query, variables=None, token=None):
    request = urllib.request.Request(base + "/graphql", json.dumps({"query": query, "variables": variables or {}}).encode(),
                                     {"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})})
    body = json.load(urllib.request.urlopen(request, timeout=600))
    assert "errors" not in body, body
    return body["data"]

reg = "mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }"
a = gql(reg, {"i": {"username": "amy", "email": "amy@x.io", "password": "correct horse battery"}})["register"]
b = gql(reg, {"i": {"username": "bob", "email": "bob@x.io", "password": "correct horse battery"}})["register"]
r = gql("mutation($u: ID!) { sendFriendRequest(userId: $u) { id } }", {"u": b["user"]["id"]}, a["accessToken"])
gql("mutation($r: ID!) { acceptFriendRequest(id: $r) { id } }", {"r": r["sendFriendRequest"]["id"]}, b["accessToken"])
c = gql("mutation($u: ID!) { openDirectConversation(userId: $u) { id } }", {"u": b["user"]["id"]}, a["accessToken"])["openDirectConversation"]["id"]
for n in range(60):
    who = a if n % 2 else b
    gql("mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }",
        {"i": {"conversationId": c, "body": f"message number {n} with a few words of text in it"}}, who["accessToken"])
# The load generator's queries (load/src/scenarios/queries.rs).
queries = {
    "page": "query($c: ID!) { messages(conversationId: $c, last: 50) { nodes { id seq body createdAt author { id username displayName } } pageInfo { hasPreviousPage startCursor } } }",
    "me": "{ me { id username displayName } }",
}
query = queries[WHICH]
gql(query, {"c": c} if WHICH == "page" else {}, a["accessToken"])
for _ in range(N):
    gql(query, {"c": c} if WHICH == "page" else {}, a["accessToken"])
server.send_signal(signal.SIGINT)
server.wait(timeout=120)
print(out)
