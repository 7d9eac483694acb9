// GraphiQL on this API. Sign in with the `login` mutation, then put
// {"Authorization": "Bearer <token>"} in the Headers tab: GraphiQL sends it with
// every request, and in the WebSocket's connection_init for subscriptions.
(function () {
  const url = new URL('/graphql', window.location.origin);
  const ws = new URL('/graphql/ws', window.location.origin);
  ws.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const fetcher = GraphiQL.createFetcher({
    url: url.toString(),
    subscriptionUrl: ws.toString(),
  });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true }),
  );
})();
