// Names shared by workflows and clients (plain strings: clients must not import workflow code).
export const reportQueryName = 'report';
