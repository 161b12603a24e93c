/** The multi-user example of the access issue, shared by the golden config and the nginx tests. */
import { UserAccess } from "../components/grants";

export const accessExample: UserAccess[] = [
    // CI pushes everything, and (without `access`) keeps the catalog.
    { username: "ci" },
    // Cluster nodes only pull.
    { username: "node", access: [{ repositories: ["**"], actions: ["pull"] }] },
    // A team owns its space and reads the shared base images.
    {
        username: "team-a",
        access: [
            { repositories: ["team-a/**"], actions: ["pull", "push", "delete"] },
            { repositories: ["base/*"], actions: ["pull"] },
        ],
    },
    // An auditor who may list names but read nothing.
    { username: "auditor", access: [{ repositories: ["audit-only"], actions: ["pull"] }], catalog: true },
];
