# Shared by the Swarm fixture's scripts: sourced, never run.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
SWARM_STACK=helpdesk
SWARM_FILE="$STACK_DIR/swarm/stack.yml"
swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}'; }
stack_containers() { docker ps -aq --filter "label=com.docker.stack.namespace=$SWARM_STACK"; }
stack_networks() { docker network ls -q --filter "label=com.docker.stack.namespace=$SWARM_STACK"; }
